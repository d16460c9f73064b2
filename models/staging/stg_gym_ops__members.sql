with source as (

    select * from {{ raw_table('members') }}

),

renamed as (

    select
        cast(member_id as {{ dbt.type_int() }}) as member_id,
        cast(first_name as {{ dbt.type_string() }}) as first_name,
        cast(last_name as {{ dbt.type_string() }}) as last_name,
        lower(trim(cast(email as {{ dbt.type_string() }}))) as email,
        cast(birth_date as date) as birth_date,
        cast(home_gym_id as {{ dbt.type_int() }}) as home_gym_id,
        cast(joined_on as date) as joined_on
    from source

)

select * from renamed
