with source as (

    select * from {{ raw_table('ascents') }}

),

renamed as (

    select
        cast(ascent_id as {{ dbt.type_int() }}) as ascent_id,
        cast(member_id as {{ dbt.type_int() }}) as member_id,
        cast(route_id as {{ dbt.type_int() }}) as route_id,
        cast(climbed_on as date) as climbed_on,
        cast(style as {{ dbt.type_string() }}) as ascent_style,
        -- ratings are optional in the app; anything unparsable becomes null
        {{ dbt.safe_cast('rating', dbt.type_int()) }} as rating
    from source

)

select
    *,
    ascent_style <> 'attempt' as is_send
from renamed
