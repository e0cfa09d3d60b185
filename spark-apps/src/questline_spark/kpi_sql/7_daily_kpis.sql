-- One row per computed day: players, stickiness, sessions, revenue, payers, guilds ("Daily KPIs").
INSERT INTO daily_kpis
WITH today AS (
  SELECT count(*) AS dau, coalesce(sum(purchases), 0) AS purchases, coalesce(sum(revenue), 0) AS revenue,
    count_if(revenue > 0) AS paying_players
  FROM player_days WHERE activity_date = DATE '{day}'
),
week AS (
  SELECT count(DISTINCT player_id) AS wau FROM player_days
  WHERE activity_date BETWEEN DATE '{day}' - INTERVAL '6' DAY AND DATE '{day}'
),
month AS (
  SELECT count(DISTINCT player_id) AS mau FROM player_days
  WHERE activity_date BETWEEN DATE '{day}' - INTERVAL '29' DAY AND DATE '{day}'
),
newcomers AS (SELECT count(*) AS new_players FROM player_first_seen WHERE first_seen_date = DATE '{day}'),
played AS (SELECT count(*) AS sessions, avg(length_seconds) AS avg_session_seconds FROM sessions WHERE session_date = DATE '{day}'),
guilds AS (
  SELECT count(*) AS active_guilds, coalesce(sum(joins), 0) AS joins, coalesce(sum(leaves), 0) AS leaves,
    coalesce(sum(wars_declared), 0) AS wars_declared, coalesce(sum(peace_declared), 0) AS peace_declared
  FROM guild_days WHERE activity_date = DATE '{day}'
)
SELECT
  dau, wau, mau,
  CASE WHEN mau > 0 THEN CAST(dau AS double) / mau END AS stickiness,
  new_players, dau - new_players AS returning_players,
  sessions, avg_session_seconds,
  purchases, revenue, paying_players,
  CASE WHEN dau > 0 THEN CAST(revenue AS double) / dau END AS arpdau,
  CASE WHEN paying_players > 0 THEN CAST(revenue AS double) / paying_players END AS arppu,
  CASE WHEN dau > 0 THEN CAST(paying_players AS double) / dau END AS paying_share,
  active_guilds, joins, leaves, wars_declared, peace_declared,
  DATE '{day}' AS day
FROM today, week, month, newcomers, played, guilds
