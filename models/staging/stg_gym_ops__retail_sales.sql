with source as (

    select * from {{ raw_table('retail_sales') }}

),

renamed as (

    select
        cast(sale_id as {{ dbt.type_int() }}) as retail_sale_id,
        cast(gym_id as {{ dbt.type_int() }}) as gym_id,
        cast(member_id as {{ dbt.type_int() }}) as member_id,
        cast(sold_at as {{ dbt.type_timestamp() }}) as sold_at,
        cast(product_category as {{ dbt.type_string() }}) as product_category,
        cast(product_name as {{ dbt.type_string() }}) as product_name,
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price_cents as {{ dbt.type_int() }}) as unit_price_cents
    from source

)

select
    *,
    quantity * unit_price_cents as amount_cents,
    {{ cents_to_dollars('quantity * unit_price_cents') }} as amount
from renamed
