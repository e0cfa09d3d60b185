-- Who spends the most? Purchases and gold per player (top 15).
SELECT player_id,
       min(host) AS host,
       count(*) AS purchases,
       coalesce(sum(price), 0) AS gold_spent,
       round(avg(strength), 1) AS avg_strength
FROM purchases
WHERE player_id IS NOT NULL
GROUP BY player_id
ORDER BY gold_spent DESC, purchases DESC, player_id
LIMIT 15
