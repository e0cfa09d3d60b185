-- Of the players first seen each day, the share active again exactly n days later (retention triangle, %).
SELECT cohort_date,
       max(cohort_size) AS players,
       max(CASE WHEN day_number = 1 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d1,
       max(CASE WHEN day_number = 2 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d2,
       max(CASE WHEN day_number = 3 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d3,
       max(CASE WHEN day_number = 4 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d4,
       max(CASE WHEN day_number = 5 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d5,
       max(CASE WHEN day_number = 6 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d6,
       max(CASE WHEN day_number = 7 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d7,
       max(CASE WHEN day_number = 14 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d14,
       max(CASE WHEN day_number = 30 THEN round(100.0 * retained_players / cohort_size, 1) END) AS d30
FROM retention
GROUP BY cohort_date
ORDER BY cohort_date
