-- Ascents with the route's grade, discipline and gym, so marts can talk
-- about difficulty without joining routes again.
with ascents as (

    select * from {{ ref('stg_gym_ops__ascents') }}

),

routes as (

    select * from {{ ref('stg_gym_ops__routes') }}

)

select
    ascents.ascent_id,
    ascents.member_id,
    ascents.route_id,
    routes.gym_id,
    ascents.climbed_on,
    ascents.ascent_style,
    ascents.is_send,
    ascents.rating,
    routes.discipline,
    routes.grade,
    routes.grade_rank,
    {{ dbt.datediff('routes.set_on', 'ascents.climbed_on', 'day') }} as days_since_route_set
from ascents
inner join routes
    on ascents.route_id = routes.route_id
