-- severity: fail
-- description: new_rentals sums to the rentals in the mirror, returned_rentals to the returned ones
select
    (select sum(weekly_rentals.new_rentals) from rollup.weekly_rentals) as new_rentals_total,
    (select count(*) from rollup.raw_rental) as rentals_in_mirror,
    (select sum(weekly_rentals.returned_rentals) from rollup.weekly_rentals) as returned_rentals_total,
    (select count(*) from rollup.raw_rental where raw_rental.return_date is not null) as returns_in_mirror
where (select coalesce(sum(weekly_rentals.new_rentals), 0) from rollup.weekly_rentals)
        <> (select count(*) from rollup.raw_rental)
    or (select coalesce(sum(weekly_rentals.returned_rentals), 0) from rollup.weekly_rentals)
        <> (select count(*) from rollup.raw_rental where raw_rental.return_date is not null)
