"""The browser console: server-rendered pages for operators, customers and finance."""
