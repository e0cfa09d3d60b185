-- Retention of the cohorts first seen in the 30 days up to the day: who of each came back on it ("Retention").
INSERT INTO retention
WITH cohorts AS (
  SELECT first_seen_date AS cohort_date, count(*) AS cohort_size
  FROM player_first_seen
  WHERE first_seen_date BETWEEN DATE '{day}' - INTERVAL '30' DAY AND DATE '{day}'
  GROUP BY first_seen_date
),
back AS (
  SELECT f.first_seen_date AS cohort_date, count(*) AS retained_players
  FROM player_days d
  JOIN player_first_seen f ON f.player_id = d.player_id
  WHERE d.activity_date = DATE '{day}'
    AND f.first_seen_date BETWEEN DATE '{day}' - INTERVAL '30' DAY AND DATE '{day}'
  GROUP BY f.first_seen_date
)
SELECT
  c.cohort_date,
  date_diff('day', c.cohort_date, DATE '{day}') AS day_number,
  c.cohort_size,
  coalesce(b.retained_players, 0) AS retained_players,
  DATE '{day}' AS activity_date
FROM cohorts c
LEFT JOIN back b ON b.cohort_date = c.cohort_date
