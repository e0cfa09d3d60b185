-- How many events arrive each hour, by family (server time, UTC)?
SELECT date_trunc('hour', "timestamp") AS hour,
       count(*) AS events,
       count_if(family = 'visits') AS visits,
       count_if(family = 'purchases') AS purchases,
       count_if(family = 'joins') AS joins,
       count_if(family = 'declarations') AS declarations,
       count(DISTINCT player_id) AS players
FROM events
GROUP BY 1
ORDER BY 1
