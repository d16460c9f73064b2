{#-
    Route history (classic snapshot block). Routes have no updated_at, so
    changes are detected by comparing the columns that setters edit.
-#}
{% snapshot snap_routes %}

{{
    config(
        unique_key='route_id',
        strategy='check',
        check_cols=['grade', 'hold_color', 'wall_name', 'removed_on'],
    )
}}

select * from {{ ref('stg_gym_ops__routes') }}

{% endsnapshot %}
