"""antkit.report"""
