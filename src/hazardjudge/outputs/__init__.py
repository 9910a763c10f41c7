"""What people read: the text report, the explain trace and the rectification notices, with their templates."""
