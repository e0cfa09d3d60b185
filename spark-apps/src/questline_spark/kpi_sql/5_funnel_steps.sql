-- Funnel steps reached on the day, each at the first event of its kind at or after the previous step ("Funnel").
INSERT INTO funnel_steps
WITH earlier AS (
  SELECT player_id, step_number, reached_at FROM funnel_steps WHERE reached_date < DATE '{day}'
),
candidates AS (
  SELECT player_id, event_type, "timestamp" AS ts
  FROM events
  WHERE event_date = '{day}' AND player_id IS NOT NULL
    AND (family = 'purchases' OR event_type IN ('join_guild', 'declare_war'))
),
step1 AS (
  SELECT player_id, first_seen_at AS reached_at FROM player_first_seen WHERE first_seen_date = DATE '{day}'
),
at1 AS (SELECT player_id, reached_at FROM earlier WHERE step_number = 1 UNION ALL SELECT * FROM step1),
step2 AS (
  SELECT c.player_id, min(c.ts) AS reached_at
  FROM candidates c JOIN at1 ON at1.player_id = c.player_id AND c.ts >= at1.reached_at
  WHERE c.event_type LIKE 'purchase\_%' ESCAPE '\'
    AND NOT EXISTS (SELECT 1 FROM earlier x WHERE x.player_id = c.player_id AND x.step_number = 2)
  GROUP BY c.player_id
),
at2 AS (SELECT player_id, reached_at FROM earlier WHERE step_number = 2 UNION ALL SELECT * FROM step2),
step3 AS (
  SELECT c.player_id, min(c.ts) AS reached_at
  FROM candidates c JOIN at2 ON at2.player_id = c.player_id AND c.ts >= at2.reached_at
  WHERE c.event_type = 'join_guild'
    AND NOT EXISTS (SELECT 1 FROM earlier x WHERE x.player_id = c.player_id AND x.step_number = 3)
  GROUP BY c.player_id
),
at3 AS (SELECT player_id, reached_at FROM earlier WHERE step_number = 3 UNION ALL SELECT * FROM step3),
step4 AS (
  SELECT c.player_id, min(c.ts) AS reached_at
  FROM candidates c JOIN at3 ON at3.player_id = c.player_id AND c.ts >= at3.reached_at
  WHERE c.event_type = 'declare_war'
    AND NOT EXISTS (SELECT 1 FROM earlier x WHERE x.player_id = c.player_id AND x.step_number = 4)
  GROUP BY c.player_id
)
SELECT player_id, 1 AS step_number, 'first_seen' AS step, reached_at, DATE '{day}' AS reached_date FROM step1
UNION ALL SELECT player_id, 2, 'first_purchase', reached_at, DATE '{day}' FROM step2
UNION ALL SELECT player_id, 3, 'guild_joined', reached_at, DATE '{day}' FROM step3
UNION ALL SELECT player_id, 4, 'war_declared', reached_at, DATE '{day}' FROM step4
