// samplers: public exports
