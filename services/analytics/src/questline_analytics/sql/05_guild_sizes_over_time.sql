-- How many members does each guild have, hour by hour? Size = joins - leaves so far.
WITH hourly AS (
    SELECT guild_name,
           date_trunc('hour', "timestamp") AS hour,
           count_if(event_type = 'join_guild') AS joins,
           count_if(event_type = 'leave_guild') AS leaves
    FROM joins
    WHERE guild_name IS NOT NULL
    GROUP BY 1, 2
)
SELECT guild_name,
       hour,
       joins,
       leaves,
       sum(joins - leaves) OVER (PARTITION BY guild_name ORDER BY hour) AS members
FROM hourly
ORDER BY hour, guild_name
