-- Wars and peace per guild: declarations made and received, and how many guilds it is
-- at war with now (the latest declaration between two guilds decides).
WITH pairs AS (
    SELECT least(guild_name, target_guild) AS a,
           greatest(guild_name, target_guild) AS b,
           max_by(event_type, concat(cast("timestamp" AS varchar), event_id)) AS latest
    FROM declarations
    WHERE guild_name IS NOT NULL AND target_guild IS NOT NULL AND guild_name <> target_guild
    GROUP BY 1, 2
),
at_war AS (
    SELECT a AS guild_name, count(*) AS enemies FROM pairs WHERE latest = 'declare_war' GROUP BY a
    UNION ALL
    SELECT b, count(*) FROM pairs WHERE latest = 'declare_war' GROUP BY b
),
sides AS (
    SELECT guild_name, event_type, 'made' AS side FROM declarations
    UNION ALL
    SELECT target_guild, event_type, 'received' FROM declarations
)
SELECT s.guild_name,
       count_if(s.event_type = 'declare_war' AND s.side = 'made') AS wars_declared,
       count_if(s.event_type = 'declare_war' AND s.side = 'received') AS wars_received,
       count_if(s.event_type = 'declare_peace' AND s.side = 'made') AS peace_declared,
       count_if(s.event_type = 'declare_peace' AND s.side = 'received') AS peace_received,
       coalesce((SELECT sum(w.enemies) FROM at_war w WHERE w.guild_name = s.guild_name), 0) AS at_war_with
FROM sides s
WHERE s.guild_name IS NOT NULL
GROUP BY s.guild_name
ORDER BY wars_declared + wars_received DESC, s.guild_name
