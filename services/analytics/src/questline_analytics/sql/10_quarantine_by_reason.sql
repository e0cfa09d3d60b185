-- Which records were not valid events, and why? One row per quarantine reason.
SELECT reason,
       count(*) AS records,
       min(kafka_timestamp) AS first_seen,
       max(kafka_timestamp) AS last_seen
FROM quarantine
GROUP BY reason
ORDER BY records DESC, reason
