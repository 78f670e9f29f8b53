"""Offers to volunteers and the tasks they accept: answers by link or by text, expiry."""
