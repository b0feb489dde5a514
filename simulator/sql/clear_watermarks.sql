-- A generated raw layer has no sync history: drop the change-feed watermarks of earlier syncs,
-- so a later `pagerlens sync` does not resume from a point the generated data never had.
delete from _watermarks
