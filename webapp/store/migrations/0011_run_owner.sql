-- Which process a run belongs to: a run whose process died (kill -9, power cut) is marked
-- interrupted by the next Relais process that starts or runs that job, CLI included.
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
CREATE INDEX runs_running ON runs (job_name) WHERE status = 'running';
