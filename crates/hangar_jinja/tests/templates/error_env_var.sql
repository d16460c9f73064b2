--- model
select '{{ env_var('HANGAR_TEST_SECRET_SURELY_UNSET') }}'
