-- Guilds per UTC day: how many were active, joins, leaves, membership churn (leaves / members at the start of the day, %), wars and peace.
SELECT activity_date AS day,
       count(*) AS active_guilds,
       sum(joins) AS joins,
       sum(leaves) AS leaves,
       round(100.0 * sum(leaves) FILTER (WHERE members_at_start > 0) / nullif(sum(members_at_start), 0), 1) AS churn_pct,
       sum(wars_declared) AS wars,
       sum(peace_declared) AS peace
FROM guild_days
GROUP BY activity_date
ORDER BY activity_date
