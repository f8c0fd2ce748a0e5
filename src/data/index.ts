// data: public exports
