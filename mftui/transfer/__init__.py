"""Getting backups on and off the box: a verified copy to media, the scp line."""
