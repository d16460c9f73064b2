with source as (

    select * from {{ raw_table('gyms') }}

),

renamed as (

    select
        cast(gym_id as {{ dbt.type_int() }}) as gym_id,
        cast(gym_name as {{ dbt.type_string() }}) as gym_name,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(state as {{ dbt.type_string() }}) as state_code,
        cast(opened_on as date) as opened_on,
        cast(wall_area_sqm as {{ dbt.type_int() }}) as wall_area_sqm,
        cast(has_lead_walls as {{ dbt.type_boolean() }}) as has_lead_walls
    from source

)

select * from renamed
