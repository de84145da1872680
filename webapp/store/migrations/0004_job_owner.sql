-- Which process holds a job's claim: at start, only claims of dead processes are released.
ALTER TABLE jobs ADD COLUMN running_pid INTEGER;
