-- stg_movie_directors: who directed each movie
--
-- materialized: table
-- grain: one row per movie and person credited with the job Director in its crew list (a person
--   credited twice, or in a repeated credits record, counts once)
-- sources: raw_credits_crew
--
-- Only the crew job "Director" (department Directing also holds assistant directors, script
-- supervisors and others). A film may have several directors (co-directors each get a row). A
-- person's name is the smallest spelling credited on the film (the file has one per person in
-- practice). A table: director_consistency reads it once per run, and the crew list is the
-- largest child table of credits.csv.
--
-- columns:
--   movie_id       TMDB movie id
--   person_id      the director's TMDB person id
--   director_name  the name credited

with
crew as (
    select
        raw_credits_crew.movie_id,
        raw_credits_crew.id,
        raw_credits_crew.name,
        raw_credits_crew.job
    from raw_credits_crew
),

final as (
    select
        crew.movie_id,
        crew.id as person_id,
        min(crew.name) as director_name
    from crew
    where crew.job = 'Director'
    group by crew.movie_id, crew.id
)

select * from final
