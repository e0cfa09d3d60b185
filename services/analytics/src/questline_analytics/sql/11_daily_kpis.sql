-- Active players, stickiness, sessions, revenue and payers per UTC day (the KPI tables of compute-kpis; definitions in docs/analytics.md).
SELECT day, dau, wau, mau,
       round(stickiness * 100, 1) AS stickiness_pct,
       new_players,
       sessions,
       round(avg_session_seconds / 60, 1) AS avg_session_minutes,
       revenue,
       round(arpdau, 2) AS arpdau,
       round(arppu, 2) AS arppu,
       round(paying_share * 100, 1) AS paying_pct
FROM daily_kpis
ORDER BY day
