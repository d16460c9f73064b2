with source as (

    select * from {{ raw_table('day_pass_sales') }}

),

renamed as (

    select
        cast(sale_id as {{ dbt.type_int() }}) as day_pass_sale_id,
        cast(gym_id as {{ dbt.type_int() }}) as gym_id,
        cast(sold_at as {{ dbt.type_timestamp() }}) as sold_at,
        cast(pass_type as {{ dbt.type_string() }}) as pass_type,
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price_cents as {{ dbt.type_int() }}) as unit_price_cents
    from source

)

select
    *,
    quantity * unit_price_cents as amount_cents,
    {{ cents_to_dollars('quantity * unit_price_cents') }} as amount
from renamed
