--- model
select * from {{ ref('missing') }}
