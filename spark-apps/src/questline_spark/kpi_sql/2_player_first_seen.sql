-- Players first seen on the day: active on it and in no earlier partition ("Players").
INSERT INTO player_first_seen
SELECT d.player_id, d.first_event_at AS first_seen_at, DATE '{day}' AS first_seen_date
FROM player_days d
WHERE d.activity_date = DATE '{day}'
  AND NOT EXISTS (
    SELECT 1 FROM player_first_seen f
    WHERE f.player_id = d.player_id AND f.first_seen_date < DATE '{day}'
  )
