-- Which sword type do players buy most, how strong is it, and what do they pay?
-- Legacy purchases carry no price: they count in purchases, not in gold_spent.
SELECT coalesce(item_type, '(unnamed)') AS sword_type,
       count(*) AS purchases,
       round(avg(strength), 1) AS avg_strength,
       coalesce(sum(price), 0) AS gold_spent
FROM purchases
WHERE item = 'sword'
GROUP BY 1
ORDER BY purchases DESC, sword_type
