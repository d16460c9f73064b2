with source as (

    select * from {{ raw_table('memberships') }}

),

renamed as (

    select
        cast(membership_id as {{ dbt.type_int() }}) as membership_id,
        cast(member_id as {{ dbt.type_int() }}) as member_id,
        cast(plan as {{ dbt.type_string() }}) as plan_name,
        cast(started_on as date) as started_on,
        cast(ended_on as date) as ended_on,
        cast(status as {{ dbt.type_string() }}) as membership_status,
        cast(monthly_fee_cents as {{ dbt.type_int() }}) as monthly_fee_cents,
        {{ cents_to_dollars('monthly_fee_cents') }} as monthly_fee,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source

)

select * from renamed
