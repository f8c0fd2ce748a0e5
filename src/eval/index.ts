// eval: public exports
