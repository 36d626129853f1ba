// The one place the dashboards import queries from.
export { QUERIES, quantityQueries, flagQueries, featureQueries, type Query } from './queries-stub.ts';
