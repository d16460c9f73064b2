-- One row per logged ascent, with the route's grade and the climber's
-- home gym so ascents away from home can be told apart.
with ascents as (

    select * from {{ ref('int_ascents_enriched') }}

),

members as (

    select member_id, home_gym_id from {{ ref('stg_gym_ops__members') }}

)

select
    ascents.ascent_id,
    ascents.member_id,
    ascents.route_id,
    ascents.gym_id,
    ascents.climbed_on,
    cast({{ dbt.date_trunc('month', 'ascents.climbed_on') }} as date) as climbed_month,
    ascents.ascent_style,
    ascents.is_send,
    ascents.rating,
    ascents.discipline,
    ascents.grade,
    ascents.grade_rank,
    ascents.days_since_route_set,
    ascents.gym_id = members.home_gym_id as is_home_gym
from ascents
left join members
    on ascents.member_id = members.member_id
