with source as (

    select * from {{ raw_table('check_ins') }}

),

renamed as (

    select
        cast(check_in_id as {{ dbt.type_int() }}) as check_in_id,
        cast(member_id as {{ dbt.type_int() }}) as member_id,
        cast(gym_id as {{ dbt.type_int() }}) as gym_id,
        cast(checked_in_at as {{ dbt.type_timestamp() }}) as checked_in_at,
        cast(duration_minutes as {{ dbt.type_int() }}) as duration_minutes
    from source

)

select
    *,
    {{ dbt.dateadd('minute', 'duration_minutes', 'checked_in_at') }} as checked_out_at
from renamed
