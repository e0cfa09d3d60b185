-- How many players were active each day, and how many of them were new?
WITH first_seen AS (
    SELECT player_id, min(event_date) AS first_date
    FROM events
    WHERE player_id IS NOT NULL
    GROUP BY player_id
)
SELECT e.event_date,
       count(DISTINCT e.player_id) AS active_players,
       count(DISTINCT CASE WHEN f.first_date = e.event_date THEN e.player_id END) AS new_players,
       count(*) AS events
FROM events e
LEFT JOIN first_seen f ON f.player_id = e.player_id
GROUP BY e.event_date
ORDER BY e.event_date
