-- Sessions starting on the day, cut at gaps of more than {gap_minutes} minutes, over the events of
-- the day before, the day and the day after so that sessions over midnight are whole ("Sessions").
INSERT INTO sessions
WITH timed AS (
  SELECT e.player_id, e."timestamp" AS ts, e.event_id, p.event_id IS NOT NULL AS is_purchase, coalesce(p.price, 0) AS price
  FROM events e
  LEFT JOIN purchases p ON p.event_id = e.event_id AND p.event_date BETWEEN '{previous_day}' AND '{next_day}'
  WHERE e.event_date BETWEEN '{previous_day}' AND '{next_day}' AND e.player_id IS NOT NULL
),
marked AS (
  SELECT *,
    CASE WHEN ts - lag(ts) OVER (PARTITION BY player_id ORDER BY ts, event_id) <= INTERVAL '{gap_minutes}' MINUTE
      THEN 0 ELSE 1 END AS starts_session
  FROM timed
),
numbered AS (
  SELECT *,
    sum(starts_session) OVER (PARTITION BY player_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS session_number
  FROM marked
),
cut AS (
  SELECT player_id, min(ts) AS session_start, max(ts) AS session_end, count(*) AS events,
    count_if(is_purchase) AS purchases, sum(price) AS spend
  FROM numbered
  GROUP BY player_id, session_number
)
SELECT
  player_id, session_start, session_end,
  CAST(to_milliseconds(session_end - session_start) AS double) / 1000 AS length_seconds,
  events, purchases, spend,
  DATE '{day}' AS session_date
FROM cut
WHERE CAST(session_start AS date) = DATE '{day}'
