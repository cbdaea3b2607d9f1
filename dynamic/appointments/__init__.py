"""Appointment booking: free slots from the knowledge base, bookings that never exceed a
location's capacity (a unique claim per counter and time unit), citizens' and staff views."""
