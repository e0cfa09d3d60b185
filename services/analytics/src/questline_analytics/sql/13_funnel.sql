-- How many players reached each funnel step, as a share of the step before, and the median minutes from it (the lower middle value).
WITH timed AS (
    SELECT s.step_number, s.step,
           CAST(to_milliseconds(s.reached_at - p.reached_at) AS double) / 60000 AS minutes
    FROM funnel_steps s
    LEFT JOIN funnel_steps p ON p.player_id = s.player_id AND p.step_number = s.step_number - 1
),
steps AS (
    SELECT step_number, step, count(*) AS players, array_sort(array_agg(minutes) FILTER (WHERE minutes IS NOT NULL)) AS sorted
    FROM timed
    GROUP BY step_number, step
)
SELECT step_number, step, players,
       round(100.0 * players / lag(players) OVER (ORDER BY step_number), 1) AS pct_of_previous,
       round(element_at(sorted, (cardinality(sorted) + 1) / 2), 1) AS median_minutes_from_previous
FROM steps
ORDER BY step_number
