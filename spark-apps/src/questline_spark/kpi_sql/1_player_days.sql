-- Active players of the day: one row per non-null player_id with a valid event on it (docs/analytics.md, "Players").
INSERT INTO player_days
SELECT
  e.player_id,
  count(*) AS events,
  count(p.event_id) AS purchases,
  coalesce(sum(p.price), 0) AS revenue,
  min(e."timestamp") AS first_event_at,
  max(e."timestamp") AS last_event_at,
  DATE '{day}' AS activity_date
FROM events e
LEFT JOIN purchases p ON p.event_id = e.event_id AND p.event_date = '{day}'
WHERE e.event_date = '{day}' AND e.player_id IS NOT NULL
GROUP BY e.player_id
