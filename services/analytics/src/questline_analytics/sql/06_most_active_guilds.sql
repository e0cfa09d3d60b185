-- Which guilds are the most active? Joins, leaves and declarations they made, per guild.
WITH activity AS (
    SELECT guild_name, player_id, event_type FROM joins
    UNION ALL
    SELECT guild_name, player_id, event_type FROM declarations
)
SELECT guild_name,
       count(*) AS events,
       count(DISTINCT player_id) AS players,
       count_if(event_type = 'join_guild') AS joins,
       count_if(event_type = 'leave_guild') AS leaves,
       count_if(event_type = 'declare_war') AS wars_declared,
       count_if(event_type = 'declare_peace') AS peace_declared
FROM activity
WHERE guild_name IS NOT NULL
GROUP BY guild_name
ORDER BY events DESC, guild_name
