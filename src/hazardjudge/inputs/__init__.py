"""What inspectors give: typed answers, inspection files, pasted text and the checklists they fill in."""
