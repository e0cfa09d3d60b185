-- Per guild named on the day: joins, leaves, members, churn, wars and peace on either side ("Guilds").
INSERT INTO guild_days
WITH named AS (
  SELECT guild_name, count_if(event_type = 'join_guild') AS joins, count_if(event_type = 'leave_guild') AS leaves,
    0 AS wars_declared, 0 AS peace_declared, 0 AS wars_received, 0 AS peace_received
  FROM joins WHERE event_date = '{day}' AND guild_name IS NOT NULL GROUP BY guild_name
  UNION ALL
  SELECT guild_name, 0, 0, count_if(event_type = 'declare_war'), count_if(event_type = 'declare_peace'), 0, 0
  FROM declarations WHERE event_date = '{day}' AND guild_name IS NOT NULL GROUP BY guild_name
  UNION ALL
  SELECT target_guild, 0, 0, 0, 0, count_if(event_type = 'declare_war'), count_if(event_type = 'declare_peace')
  FROM declarations WHERE event_date = '{day}' AND target_guild IS NOT NULL GROUP BY target_guild
),
today AS (
  SELECT guild_name, sum(joins) AS joins, sum(leaves) AS leaves, sum(wars_declared) AS wars_declared,
    sum(peace_declared) AS peace_declared, sum(wars_received) AS wars_received, sum(peace_received) AS peace_received
  FROM named GROUP BY guild_name
),
before AS (
  SELECT guild_name, sum(joins - leaves) AS members
  FROM guild_days WHERE activity_date < DATE '{day}' GROUP BY guild_name
)
SELECT
  t.guild_name, t.joins, t.leaves,
  coalesce(b.members, 0) AS members_at_start,
  coalesce(b.members, 0) + t.joins - t.leaves AS members_at_end,
  CASE WHEN coalesce(b.members, 0) > 0 THEN CAST(t.leaves AS double) / b.members END AS membership_churn,
  t.wars_declared, t.peace_declared, t.wars_received, t.peace_received,
  DATE '{day}' AS activity_date
FROM today t
LEFT JOIN before b ON b.guild_name = t.guild_name
