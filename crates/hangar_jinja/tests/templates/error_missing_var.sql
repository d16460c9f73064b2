--- model
select {{ var('not_defined') }}
