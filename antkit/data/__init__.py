"""antkit.data"""
