with source as (

    select * from {{ raw_table('route_setters') }}

),

renamed as (

    select
        cast(setter_id as {{ dbt.type_int() }}) as setter_id,
        cast(setter_name as {{ dbt.type_string() }}) as setter_name,
        cast(home_gym_id as {{ dbt.type_int() }}) as home_gym_id,
        cast(hired_on as date) as hired_on,
        cast(is_head_setter as {{ dbt.type_boolean() }}) as is_head_setter
    from source

)

select * from renamed
