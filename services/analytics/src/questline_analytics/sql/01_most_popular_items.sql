-- Which item sells most, and which kind of each item is the favourite?
-- One row per item, most purchased first; share_pct is of all purchases.
WITH by_kind AS (
    SELECT item, coalesce(item_type, '(unnamed)') AS item_type, count(*) AS purchases
    FROM purchases
    GROUP BY 1, 2
),
ranked AS (
    SELECT item, item_type, purchases,
           row_number() OVER (PARTITION BY item ORDER BY purchases DESC, item_type) AS place
    FROM by_kind
)
SELECT item,
       sum(purchases) AS purchases,
       round(100.0 * sum(purchases) / (SELECT count(*) FROM purchases), 1) AS share_pct,
       max(CASE WHEN place = 1 THEN item_type END) AS favourite_kind,
       max(CASE WHEN place = 1 THEN purchases END) AS favourite_kind_purchases
FROM ranked
GROUP BY item
ORDER BY purchases DESC, item
