-- Routes ranked by their average star rating within each gym and
-- discipline, among routes with enough ratings to be trusted.
with routes as (

    select * from {{ ref('dim_routes') }}
    where rating_count >= {{ var('min_ratings_for_top_routes') }}

),

ranked as (

    select
        gym_id,
        discipline,
        route_id,
        grade,
        wall_name,
        setter_name,
        rating_count,
        average_rating,
        rank() over (
            partition by gym_id, discipline
            order by average_rating desc, rating_count desc
        ) as rating_rank
    from routes

)

select *
from ranked
where rating_rank <= 10
