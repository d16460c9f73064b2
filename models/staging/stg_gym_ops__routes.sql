with source as (

    select * from {{ raw_table('routes') }}

),

renamed as (

    select
        cast(route_id as {{ dbt.type_int() }}) as route_id,
        cast(gym_id as {{ dbt.type_int() }}) as gym_id,
        cast(wall as {{ dbt.type_string() }}) as wall_name,
        cast(discipline as {{ dbt.type_string() }}) as discipline,
        cast(grade as {{ dbt.type_string() }}) as grade,
        cast(hold_color as {{ dbt.type_string() }}) as hold_color,
        cast(setter_id as {{ dbt.type_int() }}) as setter_id,
        cast(set_on as date) as set_on,
        cast(removed_on as date) as removed_on
    from source

)

select
    *,
    {{ grade_rank('grade') }} as grade_rank,
    removed_on is null as is_on_wall
from renamed
