"""Reminders: what is overdue in a cycle, for the to-do list, the dashboard and the reminder e-mails."""
