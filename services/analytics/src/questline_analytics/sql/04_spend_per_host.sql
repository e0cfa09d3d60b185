-- Purchases and gold per host, the "user" of the original game's Apache Bench runs (top 15).
SELECT coalesce(host, '(none)') AS host,
       count(DISTINCT player_id) AS players,
       count(*) AS purchases,
       coalesce(sum(price), 0) AS gold_spent
FROM purchases
GROUP BY 1
ORDER BY gold_spent DESC, purchases DESC, host
LIMIT 15
