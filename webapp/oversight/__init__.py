"""The centre's oversight: the audit log read back, statistics of the register, the
coordinators' work, the year's roll-up and what needs doing. Services over a Session (no
Flask), like webapp/registry/; the pages are webapp/audit_log/, webapp/statistics/ and
webapp/reports/."""
